export * from "./keystore";
export * from "./policy";
export * from "./custodian";
