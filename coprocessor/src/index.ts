export * from "./errors/base";
export * from "./hash/keccak";
export * from "./ckks/index";
export * as shapley from "./shapley";
