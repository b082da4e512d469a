// The Redis session store (work in progress).
