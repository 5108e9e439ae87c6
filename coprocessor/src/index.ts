export * from "./errors/base";
