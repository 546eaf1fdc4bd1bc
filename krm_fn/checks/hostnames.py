"""Rules: hostnames. (Being written.)"""
