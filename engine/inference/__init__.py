"""Approximate inference (book chapter 19; Kingma & Welling section 2): EM, the choice of KL, mean field, MAP inference
and sparse coding, learned inference, gradient estimators. One file per method; NumPy and PyTorch only."""
