import type { ProjectTreeWriter } from './project-tree-writer.ts';
import type { UploadTally } from './upload-tally.ts';

/** Where an extractor puts an upload: the tally admits each entry, the writer creates it. */
export interface UploadTarget {
  tally: UploadTally;
  writer: ProjectTreeWriter;
}
