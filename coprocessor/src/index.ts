export * from "./errors/base";
export * from "./hash/keccak";
export * from "./ckks/index";
export * from "./formats/index";
export * from "./fedavg/index";
export * from "./custodian/index";
export * from "./storage/index";
export * as shapley from "./shapley";
