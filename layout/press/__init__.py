"""The press (the third stage, writing, and the fifth, preflight): the plates (galleys drawn, adverts placed,
PDF/X), proofs, preflight and copy accounting."""
