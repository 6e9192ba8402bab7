// Other tests on this shared machine stop PostgreSQL on purpose (fault tests): a round they disturb is retried.

import postgres from "postgres";
import { note } from "./progress.ts";
import { dbUrl } from "./services.ts";

/** Thrown when a round saw PostgreSQL go away: its timing means nothing. */
export class DisturbedError extends Error {
  constructor(what: string) {
    super(`disturbed: ${what}`);
    this.name = "DisturbedError";
  }
}

const OUTAGE =
  /ECONNREFUSED|ECONNRESET|shutting down|terminating connection|starting up|CONNECTION_CLOSED|CONNECTION_ENDED|57P0[13]|disturbed/i;

export const isOutage = (error: unknown): boolean =>
  error instanceof DisturbedError ||
  OUTAGE.test(
    error instanceof Error ? `${error.message} ${(error as { code?: string }).code ?? ""}` : String(error),
  );

export const waitForPostgres = async (deadlineMs = 300_000): Promise<void> => {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const sql = postgres(dbUrl("postgres"), { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`select 1`;
      return;
    } catch {
      await Bun.sleep(1000);
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
  }
  throw new Error("PostgreSQL did not come back within 5 minutes");
};

/** Runs a round; when PostgreSQL went away during it, waits for it and runs the round again (at most `tries`). */
export const retryOnOutage = async <T>(label: string, round: () => Promise<T>, tries = 3): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await round();
    } catch (error) {
      if (attempt >= tries || !isOutage(error)) throw error;
      note(
        `${label}: PostgreSQL went away (${error instanceof Error ? error.message.slice(0, 120) : String(error)}); waiting, then running the round again`,
      );
      await waitForPostgres();
      await Bun.sleep(2000);
    }
  }
};
