// Types of the parts of the splunk-logging package (it ships none) that the HEC tests use.

declare module "splunk-logging" {
  export interface SplunkPayload {
    message: unknown;
    severity?: string;
    metadata?: { host?: string; source?: string; sourcetype?: string; index?: string };
  }
  export type SplunkCallback = (
    error: unknown,
    response: { statusCode?: number } | undefined,
    body: unknown,
  ) => void;
  export class Logger {
    constructor(config: {
      token: string;
      url: string;
      maxBatchCount?: number;
      maxRetries?: number;
      level?: string;
    });
    error: (error: unknown, context: unknown) => void;
    send(payload: SplunkPayload, callback?: SplunkCallback): void;
    flush(callback?: SplunkCallback): void;
  }
}
