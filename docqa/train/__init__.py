"""Training DocQA's learned parts: ``docqa train-selector`` builds the answer
selector (docqa/answer/selector.py) from question sets that are not the
evaluation sets."""
