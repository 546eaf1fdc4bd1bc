"""Rules: schemas. (Being written.)"""
