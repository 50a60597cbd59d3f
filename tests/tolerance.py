"""What the library promises about reproducibility, as the tests check it (README,
"Reproducibility").

* The same computation (same seed, same machine, same batch size) gives bit-identical
  results: tests compare two runs of it with ``assert_array_equal``.
* Two different computations of the same quantity (another batch size, another OpenBLAS
  kernel, a matrix product split differently) agree within a rounding tolerance: tests
  compare them with :func:`assert_same_maths`, never bit for bit.

``python3 dev.py test --kernels`` runs the whole suite under every OpenBLAS kernel the CPU
can execute, so an assertion that holds for one kernel's rounding only fails there.
"""

import numpy as np

#: relative and absolute tolerances for results that went through different roundings
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
ATOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-14}


def assert_same_maths(actual, desired, dtype=None, scale=1.0):
    """Equal up to the rounding of ``dtype`` (default: ``desired``'s): two computations of
    one quantity that may group their sums differently. ``scale``: the largest magnitude
    their sums ran through (Σ|w||x| of a product), when it is above 1: a result that
    cancels from such terms can differ by the rounding of the terms, not of itself."""
    desired = np.asarray(desired)
    dtype = np.dtype(dtype or desired.dtype)
    atol = ATOL[dtype] * max(1.0, float(scale))
    np.testing.assert_allclose(actual, desired, rtol=RTOL[dtype], atol=atol)
