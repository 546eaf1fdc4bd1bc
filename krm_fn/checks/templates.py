"""Rules: templates. (Being written.)"""
