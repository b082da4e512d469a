// The Postgres session store (work in progress).
