export * from "./model-update";
export * from "./npy";
export * from "./safetensors";
export * from "./json";
export * from "./files";
