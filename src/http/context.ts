// Typed Hono context variables shared by every app.

export type AppEnv = { Variables: { requestId: string; client: string } };

declare module "hono" {
  interface ContextVariableMap {
    requestId: string;
    client: string;
  }
}
