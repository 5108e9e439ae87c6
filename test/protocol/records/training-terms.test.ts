import { expect } from "chai";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import {
  decodeTrainingTerms,
  encodeTrainingTerms,
  trainingTermsHash,
} from "@ciphershare/protocol/records/training-terms";

describe("training terms record", () => {
  const terms = { features: 64, outputs: 10, lambda: 0.001, dpEpsilon: null };

  it("encodes canonically, hashes those bytes and decodes back", async () => {
    const bytes = encodeTrainingTerms(terms);
    expect(new TextDecoder().decode(bytes)).to.equal(
      '{"kind":"ciphershare.training-terms","version":1,"features":64,"outputs":10,"lambda":0.001,"dpEpsilon":null}',
    );
    expect(await trainingTermsHash(terms)).to.equal(await keccak256(bytes));
    expect(decodeTrainingTerms(bytes)).to.deep.include({ ...terms, kind: "ciphershare.training-terms" });
    expect(encodeTrainingTerms({ ...terms, dpEpsilon: 10 })).to.not.deep.equal(bytes);
  });

  it("carries the valuation's validation blob hash and model norm bound when given", async () => {
    const validation = `0x${"ab".repeat(32)}` as const;
    const bytes = encodeTrainingTerms({ ...terms, valuation: { validation, modelNormBound: 64 } });
    expect(new TextDecoder().decode(bytes)).to.match(
      new RegExp(`"dpEpsilon":null,"valuation":\\{"validation":"${validation}","modelNormBound":64\\}\\}$`),
    );
    expect(decodeTrainingTerms(bytes).valuation).to.deep.equal({ validation, modelNormBound: 64 });
    expect(await trainingTermsHash(terms)).to.not.equal(await keccak256(bytes));
    expect(() => encodeTrainingTerms({ ...terms, valuation: { validation: "0x12", modelNormBound: 64 } })).to.throw(
      /validation 0x12/,
    );
    expect(() => encodeTrainingTerms({ ...terms, valuation: { validation, modelNormBound: 0 } })).to.throw(
      /modelNormBound 0/,
    );
  });

  it("refuses bad fields and non-canonical bytes, naming the value", () => {
    expect(() => encodeTrainingTerms({ ...terms, features: 0 })).to.throw(/features 0/);
    expect(() => encodeTrainingTerms({ ...terms, lambda: -1 })).to.throw(/lambda -1/);
    expect(() => encodeTrainingTerms({ ...terms, dpEpsilon: Number.NaN })).to.throw(/dpEpsilon NaN/);
    const reordered = new TextEncoder().encode(
      '{"version":1,"kind":"ciphershare.training-terms","features":64,"outputs":10,"lambda":0.001,"dpEpsilon":null}',
    );
    expect(() => decodeTrainingTerms(reordered)).to.throw(/canonical/);
    expect(() => decodeTrainingTerms(new TextEncoder().encode("{}"))).to.throw(/kind or version/);
  });
});
