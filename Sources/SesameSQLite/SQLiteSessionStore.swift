// The SQLite session store (work in progress).
