// The public query API as the browser sees it: typed calls, the session's API key, and errors as values.

export interface LogItem {
  id: string;
  level: string;
  message: string;
  source: string;
  timestamp: string;
  metadata: unknown;
  createdAt: string;
  cursor: string;
  matched?: string[];
}

export interface Page {
  content: LogItem[];
  totalElements: number;
  totalElementsExact: boolean;
  last: boolean;
  empty: boolean;
  nextCursor: string | null;
}

export interface StatsAnswer {
  totalLogs: number;
  levelCounts: Record<string, number>;
  sourceCounts: Record<string, number>;
  timeRange: { since: string; until: string };
  histogram: { start: string; count: number; levels: Record<string, number> }[];
}

/** An API answer other than success, carried as the server described it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field: string; message: string }[] = [],
    readonly requestId = "",
  ) {
    super(message);
  }
}

const KEY_STORE = "logproc.apiKey";

export const apiKey = {
  get: (): string => sessionStorage.getItem(KEY_STORE) ?? "",
  set: (key: string): void => {
    if (key) sessionStorage.setItem(KEY_STORE, key);
    else sessionStorage.removeItem(KEY_STORE);
  },
};

/** Headers carrying the key when one was entered. */
export const authHeaders = (): Record<string, string> => {
  const key = apiKey.get();
  return key ? { Authorization: `Bearer ${key}` } : {};
};

/** API URLs are relative to the page (…/ui/ → …/api/query/), so a path prefix in front of the gateway works. */
export const apiUrl = (path: string, params: Record<string, string | undefined> = {}): string => {
  const url = new URL(`../api/query/${path}`, location.href);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") url.searchParams.set(k, v);
  return url.toString();
};

export const isAbort = (e: unknown): boolean => e instanceof DOMException && e.name === "AbortError";

/** Turns a failed response into an ApiError, using the JSON error body when there is one. */
export const errorOf = async (res: Response): Promise<ApiError> => {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as Partial<{
      error: string;
      message: string;
      details: ApiError["details"];
      requestId: string;
    }>;
    if (typeof body.message === "string")
      return new ApiError(
        res.status,
        body.error ?? `http_${res.status}`,
        body.message,
        body.details,
        body.requestId,
      );
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(
    res.status,
    `http_${res.status}`,
    text.slice(0, 200) || res.statusText || "request failed",
  );
};

export const getJson = async <T>(
  path: string,
  params: Record<string, string | undefined>,
  signal?: AbortSignal,
): Promise<T> => {
  let res: Response;
  try {
    res = await fetch(apiUrl(path, params), {
      headers: { Accept: "application/json", ...authHeaders() },
      signal: signal ?? null,
    });
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ApiError(
      0,
      "network",
      `the gateway did not answer (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
};

/** One page of the listing or, when there is search text, of the search. */
export const fetchPage = (params: Record<string, string | undefined>, signal?: AbortSignal): Promise<Page> =>
  getJson<Page>(params.query ? "search" : "logs", params, signal);

/**
 * Stats of the last N hours reaching back to `since`. The stats window ends at the server's "now": a couple of
 * minutes of slack keep "last 1 hour" at one hour (fine buckets) rather than two.
 */
export const fetchStatsSince = (since: number, signal?: AbortSignal, minHours = 1): Promise<StatsAnswer> => {
  const hours = Math.ceil((Date.now() - since - 2 * 60_000) / 3_600_000);
  return getJson<StatsAnswer>(
    "stats",
    { hoursBack: String(Math.min(8760, Math.max(minHours, hours))) },
    signal,
  );
};
