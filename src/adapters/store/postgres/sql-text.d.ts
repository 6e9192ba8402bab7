// Type of SQL files imported as text (`import x from "….sql" with { type: "text" }`), embedded by bun build.

declare module "*.sql" {
  const text: string;
  export default text;
}
