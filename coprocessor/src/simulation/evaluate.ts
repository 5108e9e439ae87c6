import type { Dataset } from "@ciphershare/protocol/records/dataset";
import type { LinearModel } from "@ciphershare/protocol/records/model";
import { scores } from "../shapley/utility";

/** Share of rows whose highest score is their label (ties go to the lowest class). */
export function accuracy(model: LinearModel, data: Dataset): number {
  const s = scores(model, data);
  let correct = 0;
  for (let row = 0; row < data.size; row++) {
    let best = 0;
    for (let k = 1; k < data.classes; k++) if (s[row * data.classes + k] > s[row * data.classes + best]) best = k;
    if (best === data.labels[row]) correct += 1;
  }
  return correct / data.size;
}
