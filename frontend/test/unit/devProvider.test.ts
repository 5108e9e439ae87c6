// @vitest-environment node
import { beforeEach, describe, expect, inject, it } from "vitest";
import {
  createPublicClient,
  http,
  parseEther,
  recoverMessageAddress,
  recoverTypedDataAddress,
  stringToHex,
  type Address,
} from "viem";
import { appChain } from "../../src/chain/chain";
import { DEFAULT_RUNTIME_CONFIG } from "../../src/config/runtime";
import { DevWalletProvider, devAccountAddresses } from "../../src/wallet/devProvider";

// Hardhat's documented default accounts #0..#2: the derivation must land on exactly these.
const HARDHAT_ACCOUNTS: Address[] = [
  "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
];

const rpcUrl = inject("rpcUrl");
const chain = appChain({ ...DEFAULT_RUNTIME_CONFIG, rpcUrl });
const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });

// The shape fhEVM user decryption asks a wallet to sign (EIP-712, v4).
const userDecryptRequest = {
  domain: { name: "Decryption", version: "1", chainId: 31337, verifyingContract: HARDHAT_ACCOUNTS[2] },
  types: {
    EIP712Domain: [
      { name: "name", type: "string" },
      { name: "version", type: "string" },
      { name: "chainId", type: "uint256" },
      { name: "verifyingContract", type: "address" },
    ],
    UserDecryptRequestVerification: [
      { name: "publicKey", type: "bytes" },
      { name: "contractAddresses", type: "address[]" },
      { name: "startTimestamp", type: "uint256" },
      { name: "durationDays", type: "uint256" },
    ],
  },
  primaryType: "UserDecryptRequestVerification",
  message: {
    publicKey: "0x1234",
    contractAddresses: [HARDHAT_ACCOUNTS[1]],
    startTimestamp: "1700000000",
    durationDays: "1",
  },
} as const;

describe("DevWalletProvider", () => {
  let provider: DevWalletProvider;
  beforeEach(() => {
    provider = new DevWalletProvider({ chain, rpcUrl });
  });

  it("derives Hardhat's default accounts from the test mnemonic", () => {
    expect(devAccountAddresses().slice(0, 3)).toEqual(HARDHAT_ACCOUNTS);
    expect(devAccountAddresses()).toHaveLength(10);
  });

  it("exposes no account until connected, then the selected one", async () => {
    expect(await provider.request({ method: "eth_accounts" })).toEqual([]);
    expect(await provider.request({ method: "eth_requestAccounts" })).toEqual([HARDHAT_ACCOUNTS[0]]);
    expect(await provider.request({ method: "eth_accounts" })).toEqual([HARDHAT_ACCOUNTS[0]]);
    expect(await provider.request({ method: "eth_chainId" })).toBe("0x7a69");
  });

  it("tells the dapp when the picked account changes", async () => {
    await provider.request({ method: "eth_requestAccounts" });
    const seen: unknown[] = [];
    provider.on("accountsChanged", (accounts) => seen.push(accounts));
    provider.selectAccount(2);
    expect(seen).toEqual([[HARDHAT_ACCOUNTS[2]]]);
    expect(await provider.request({ method: "eth_accounts" })).toEqual([HARDHAT_ACCOUNTS[2]]);
  });

  it("refuses to sign before connecting, and for an account it does not hold", async () => {
    await expect(
      provider.request({ method: "personal_sign", params: [stringToHex("hi"), HARDHAT_ACCOUNTS[0]] }),
    ).rejects.toMatchObject({ code: 4100 });
    await provider.request({ method: "eth_requestAccounts" });
    await expect(
      provider.request({ method: "personal_sign", params: [stringToHex("hi"), HARDHAT_ACCOUNTS[1]] }),
    ).rejects.toMatchObject({ code: 4100 });
  });

  it("signs messages (personal_sign) with the selected account's key", async () => {
    provider.selectAccount(1);
    await provider.request({ method: "eth_requestAccounts" });
    const message = stringToHex("CipherShare registration");
    const signature = (await provider.request({
      method: "personal_sign",
      params: [message, HARDHAT_ACCOUNTS[1]],
    })) as `0x${string}`;
    expect(await recoverMessageAddress({ message: { raw: message }, signature })).toBe(HARDHAT_ACCOUNTS[1]);
  });

  it("signs EIP-712 typed data (eth_signTypedData_v4) as fhEVM user decryption needs", async () => {
    await provider.request({ method: "eth_requestAccounts" });
    const signature = (await provider.request({
      method: "eth_signTypedData_v4",
      params: [HARDHAT_ACCOUNTS[0], JSON.stringify(userDecryptRequest)],
    })) as `0x${string}`;
    const { EIP712Domain: _domain, ...types } = userDecryptRequest.types;
    const recovered = await recoverTypedDataAddress({
      domain: userDecryptRequest.domain,
      types,
      primaryType: userDecryptRequest.primaryType,
      message: {
        ...userDecryptRequest.message,
        startTimestamp: 1700000000n,
        durationDays: 1n,
      },
      signature,
    });
    expect(recovered).toBe(HARDHAT_ACCOUNTS[0]);
  });

  it("signs and sends transactions locally (eth_sendTransaction) to the local node", async () => {
    provider.selectAccount(1);
    await provider.request({ method: "eth_requestAccounts" });
    const before = await publicClient.getBalance({ address: HARDHAT_ACCOUNTS[2] });
    const hash = (await provider.request({
      method: "eth_sendTransaction",
      params: [{ from: HARDHAT_ACCOUNTS[1], to: HARDHAT_ACCOUNTS[2], value: `0x${parseEther("0.5").toString(16)}` }],
    })) as `0x${string}`;
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    expect(receipt.from.toLowerCase()).toBe(HARDHAT_ACCOUNTS[1].toLowerCase());
    expect(await publicClient.getBalance({ address: HARDHAT_ACCOUNTS[2] })).toBe(before + parseEther("0.5"));
  });

  it("forwards reads to the node and passes its errors on", async () => {
    const block = (await provider.request({ method: "eth_blockNumber" })) as string;
    expect(block).toMatch(/^0x[0-9a-f]+$/);
    await expect(
      provider.request({ method: "eth_getBalance", params: ["not-an-address", "latest"] }),
    ).rejects.toThrow();
  });

  it("stays on the local chain", async () => {
    await expect(
      provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x1" }] }),
    ).rejects.toMatchObject({ code: 4902 });
    await expect(
      provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x7a69" }] }),
    ).resolves.toBeNull();
  });
});
