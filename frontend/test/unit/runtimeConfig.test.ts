import { describe, expect, it } from "vitest";
import {
  DEFAULT_RUNTIME_CONFIG,
  loadRuntimeConfig,
  parseRuntimeConfig,
  RuntimeConfigError,
} from "../../src/config/runtime";

describe("parseRuntimeConfig", () => {
  it("fills what is missing from the local defaults", () => {
    expect(parseRuntimeConfig({})).toEqual(DEFAULT_RUNTIME_CONFIG);
  });

  it("keeps given endpoints, trims trailing slashes and names other chains", () => {
    const config = parseRuntimeConfig({
      rpcUrl: "http://127.0.0.1:9999/",
      coprocessorUrl: "http://127.0.0.1:7000//",
      chainId: 11155111,
      contracts: { Registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
    });
    expect(config).toEqual({
      rpcUrl: "http://127.0.0.1:9999",
      coprocessorUrl: "http://127.0.0.1:7000",
      chainId: 11155111,
      chainName: "Chain 11155111",
      contracts: { Registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
    });
  });

  it("checksums contract addresses", () => {
    expect(
      parseRuntimeConfig({ contracts: { Registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3" } }).contracts,
    ).toEqual({
      Registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    });
  });

  it.each([
    [[], /must be a JSON object/],
    [{ rpcUrl: "ftp://x" }, /rpcUrl must be http\(s\)/],
    [{ rpcUrl: "not a url" }, /rpcUrl is not a URL \(not a url\)/],
    [{ chainId: -1 }, /chainId must be a positive integer, got -1/],
    [{ chainId: "31337" }, /chainId must be a positive integer/],
    [{ contracts: { Registry: "0x12" } }, /contract Registry has no valid address \(0x12\)/],
  ])("rejects %j naming what is wrong", (json, message) => {
    expect(() => parseRuntimeConfig(json)).toThrow(RuntimeConfigError);
    expect(() => parseRuntimeConfig(json)).toThrow(message);
  });
});

describe("loadRuntimeConfig", () => {
  const respond = (status: number, body: unknown): typeof fetch =>
    (async () => new Response(JSON.stringify(body), { status })) as typeof fetch;

  it("uses the served configuration", async () => {
    expect((await loadRuntimeConfig(respond(200, { rpcUrl: "http://127.0.0.1:1234" }))).rpcUrl).toBe(
      "http://127.0.0.1:1234",
    );
  });

  it("falls back to the defaults on a static host without one", async () => {
    expect(await loadRuntimeConfig(respond(404, {}))).toEqual(DEFAULT_RUNTIME_CONFIG);
  });

  it("reports a server error instead of guessing", async () => {
    await expect(loadRuntimeConfig(respond(500, {}))).rejects.toThrow(/HTTP 500/);
  });
});
