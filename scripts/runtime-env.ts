// The runtime settings logproc is deployed with (the Dockerfile's ENV, `npm start`), for the processes the
// tests and benchmarks start, so that they run as deployed. docs/operating.md#memory-allocator says why.

/** Freed memory is given back to the system after a second, not 100 ms: buffers are not faulted in anew. */
export const DEPLOYED_RUNTIME_ENV = { MIMALLOC_PURGE_DELAY: "1000" } as const;
