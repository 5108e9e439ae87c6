import { ethers, fhevm } from "hardhat";

// Placeholder until the contract-level round lands: proves the embedded chain and the fhEVM mock run.
async function main(): Promise<void> {
  const [alice] = await ethers.getSigners();
  const probe = await ethers.deployContract("Probe");
  const address = await probe.getAddress();
  const input = await fhevm.createEncryptedInput(address, alice.address).add64(42n).encrypt();
  await (await probe.set(input.handles[0], input.inputProof)).wait();
  console.log(`Encrypted value stored on the embedded fhEVM chain at ${address}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
