import { recoverTypedDataAddress, type Address } from "viem";
import { describe, expect, it } from "vitest";
import { registrationTypedData } from "@ciphershare/protocol/chain/registration";
import { relayRegistration } from "../../src/contribute/gaslessRegistration";
import { devAccount } from "../../src/wallet/devAccounts";

const REGISTRY = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0" as Address;

describe("gasless registration", () => {
  const contributor = devAccount(4);
  const typed = registrationTypedData({
    chainId: 31337,
    registry: REGISTRY,
    contributor: contributor.address,
    metadataURI: "ipfs://profile",
    nonce: 0n,
    deadline: 1_000n,
  });

  it("is the registry's EIP-712 Register message, signed by the contributor", async () => {
    expect(typed.domain).toEqual({
      name: "CipherShare ContributorRegistry",
      version: "1",
      chainId: 31337,
      verifyingContract: REGISTRY,
    });
    const signature = await contributor.signTypedData(typed);
    expect(await recoverTypedDataAddress({ ...typed, signature })).toBe(contributor.address);
  });

  it("hands the signature to the relayer and says what to do when there is none", async () => {
    const signed = { contributor: contributor.address, metadataURI: "", deadline: "1000", signature: "0x01" as const };
    const sent: unknown[] = [];
    const relayer = async (_: RequestInfo | URL, init?: RequestInit) => {
      sent.push(JSON.parse(String(init?.body)));
      return new Response(JSON.stringify({ hash: `0x${"ab".repeat(32)}` }), { status: 200 });
    };
    await expect(relayRegistration(signed, relayer)).resolves.toBe(`0x${"ab".repeat(32)}`);
    expect(sent).toEqual([signed]);
    const none = async () => new Response("", { status: 404 });
    await expect(relayRegistration(signed, none)).rejects.toThrow(/no relayer.*npm run app.*transaction/);
    const refused = async () =>
      new Response(JSON.stringify({ error: "InvalidRegistrationSignature" }), { status: 502 });
    await expect(relayRegistration(signed, refused)).rejects.toThrow(/did not submit the registration: Invalid/);
  });
});
