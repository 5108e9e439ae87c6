export * from "./weights";
export * from "./homomorphic";
