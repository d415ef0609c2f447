/**
 * Waiting for a call no longer than the deadline. gax calls take no
 * AbortSignal, and shared (cached) calls must carry on for their other
 * callers, so the call is not cancelled: this caller stops waiting at the
 * abort and its late answer is ignored.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, abortError: () => unknown = () => signal.reason ?? new Error('aborted')): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(abortError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
