export * from "./blob-store";
export * from "./local-directory";
export * from "./http-server";
export * from "./http-client";
