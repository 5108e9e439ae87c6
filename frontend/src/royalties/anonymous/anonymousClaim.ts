// The chain side of "Claim anonymously": the sealed payout input, the relayed claim's pre-check, the fresh key's own
// user decryption, and royalty-token requests signed by the fresh key for the forwarder (ERC-2771). The wallet signs
// only the seal; everything after it is signed by the fresh key and sent by the app server's relayer.
import { bytesToHex, encodeFunctionData, type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  anonymousPayoutsAbi,
  cipherShareErrorsAbi,
  cipherShareForwarderAbi,
  royaltyTokenAbi,
} from "@ciphershare/protocol/chain/abis";
import { forwardRequestTypedData } from "@ciphershare/protocol/chain/forwarder";
import type { FhevmClient } from "@ciphershare/coprocessor/chain/fhevmClient";
import type { ForwardRequestData } from "@ciphershare/coprocessor/roles/relay-client";
import { describeContractError } from "../../errors/decodeContractError";

/** What a relayed request may spend on gas (the relay refuses more than 5 M). */
export const FORWARD_GAS = 3_000_000n;

/** The fhEVM client of the page (the relayer SDK's web build, then the mock client of the local chain). */
export async function connectFhevm(rpcUrl: string): Promise<FhevmClient> {
  const [{ initSDK }, { FhevmClient }] = await Promise.all([
    import("@zama-fhe/relayer-sdk/web"),
    import("@ciphershare/coprocessor/chain/fhevmClient"),
  ]);
  await initSDK();
  return FhevmClient.connect(rpcUrl);
}

/** The payout address as an encrypted `eaddress` input, bound to the contract and the contributor who seals it. */
export async function encryptPayoutAddress(
  fhevm: FhevmClient,
  anonymousPayouts: Address,
  contributor: Address,
  payTo: Address,
): Promise<{ handle: Hex; inputProof: Hex }> {
  const encrypted = await fhevm.createEncryptedInput(anonymousPayouts, contributor).addAddress(payTo).encrypt();
  return { handle: bytesToHex(encrypted.handles[0]), inputProof: bytesToHex(encrypted.inputProof) };
}

export const CLAIM_HINTS = {
  RoundNotClaimable:
    "The round is not settled yet: the custodian settles every included contributor after the network finalizes and funds it. Try again later.",
  AlreadyClaimed: "This payout address already claimed the round: nothing more to claim.",
  RegisteredPayoutAddress: "The payout address is a registered contributor's: it must be fresh.",
  ClaimInProgress: "A claim for this payout address is already under way.",
};

/**
 * Simulates the claim the relayer will send (same call, from the fresh address): a round that is not settled or
 * already claimed is refused here, with the contract's reason, before anything is queued.
 */
export async function checkClaimable(
  client: PublicClient,
  anonymousPayouts: Address,
  payTo: Address,
  rounds: readonly bigint[],
): Promise<void> {
  try {
    await client.simulateContract({
      account: payTo,
      address: anonymousPayouts,
      abi: anonymousPayoutsAbi,
      functionName: "claim",
      args: [payTo, [...rounds], 100n],
    });
  } catch (error) {
    throw new Error(describeContractError(error, cipherShareErrorsAbi, CLAIM_HINTS).message);
  }
}

/** The fresh address's confidential balance, decrypted by signing the user-decryption request with its own key. */
export async function decryptWithFreshKey(
  fhevm: FhevmClient,
  handle: Hex,
  token: Address,
  privateKey: Hex,
): Promise<bigint> {
  const { viemAccountSigner } = await import("@ciphershare/coprocessor/chain/fhevmClient");
  return fhevm.userDecryptUint64(handle, token, viemAccountSigner(privateKeyToAccount(privateKey)));
}

/** A royalty-token call of the fresh address: a transfer or an unwrap of `amount`, encrypted for the forwarder. */
export async function tokenCallData(
  fhevm: FhevmClient,
  action: { kind: "transfer" | "unwrap"; from: Address; to: Address; amount: bigint },
  token: Address,
  forwarder: Address,
): Promise<Hex> {
  // Forwarded calls reach the token from the forwarder: the fhEVM checks encrypted inputs against it.
  const input = await fhevm.encryptUint64(token, forwarder, [action.amount]);
  return action.kind === "transfer"
    ? encodeFunctionData({
        abi: royaltyTokenAbi,
        functionName: "confidentialTransfer",
        args: [action.to, input.handles[0], input.inputProof],
      })
    : encodeFunctionData({
        abi: royaltyTokenAbi,
        functionName: "unwrap",
        args: [action.from, action.to, input.handles[0], input.inputProof],
      });
}

/** Signs `data` for the token with the fresh key (EIP-712 ForwardRequest, the forwarder's current nonce). */
export async function signForwardRequest(
  client: PublicClient,
  privateKey: Hex,
  forwarder: Address,
  token: Address,
  data: Hex,
): Promise<ForwardRequestData> {
  const account = privateKeyToAccount(privateKey);
  const [nonce, block, chainId] = await Promise.all([
    client.readContract({
      address: forwarder,
      abi: cipherShareForwarderAbi,
      functionName: "nonces",
      args: [account.address],
    }),
    client.getBlock(),
    client.getChainId(),
  ]);
  const request = {
    from: account.address,
    to: token,
    value: 0n,
    gas: FORWARD_GAS,
    nonce,
    deadline: Number(block.timestamp) + 3600,
    data,
  };
  const signature = await account.signTypedData(forwardRequestTypedData({ chainId, forwarder, request }));
  return { from: request.from, to: token, value: 0n, gas: FORWARD_GAS, deadline: request.deadline, data, signature };
}
