"""Rules: secrets. (Being written.)"""
