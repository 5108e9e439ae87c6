export * from "./keystore";
export * from "./noise";
export * from "./policy";
export * from "./custodian";
