export * from "./errors";
export * from "./seal";
export * from "./params";
export * from "./context";
export * from "./keys";
export * from "./envelope";
export * from "./update";
