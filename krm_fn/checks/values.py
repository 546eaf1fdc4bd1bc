"""Rules: values. (Being written.)"""
