import type { RunWarning } from '../engine/run-events.ts';
import type { SnippetRequest } from '../engine/run-request.ts';
import { snippetEntryName } from '../engine/snippet-fields.ts';
import { DEFAULT_MAX_CODE_BYTES, codeSizeBytes } from './code-size.ts';
import { validateCode, type ValidationPolicy } from './validate-code.ts';
import { CodeTooLargeError } from './validation-errors.ts';

/**
 * The checks of validate-code.ts over a whole snippet: its entry (`code`) and every other file.
 * Together they are the snippet's code, so the size limit holds for all of them at once; each
 * file is scanned for secrets and dangerous patterns as code of the run's language. A refusal or
 * warning about another file than the entry names that file first. Returns the warnings.
 */
export function validateSnippet(
  request: Pick<SnippetRequest, 'language' | 'code' | 'entry' | 'files'>,
  policy: ValidationPolicy = {},
): RunWarning[] {
  const maxBytes = policy.maxCodeBytes ?? DEFAULT_MAX_CODE_BYTES;
  const files = [
    { name: snippetEntryName(request.language, request.entry), content: request.code, entry: true },
    ...(request.files ?? []).map((file) => ({ ...file, entry: false })),
  ];
  const total = files.reduce((sum, file) => sum + codeSizeBytes(file.content), 0);
  if (total > maxBytes) {
    const error = new CodeTooLargeError({ sizeBytes: total, maxBytes });
    if (files.length > 1) error.message = `${error.message} (all ${files.length} files together)`;
    throw error;
  }
  const warnings: RunWarning[] = [];
  for (const file of files) {
    const where = file.entry ? '' : `${file.name}: `;
    let result;
    try {
      result = validateCode({ language: request.language, code: file.content, policy });
    } catch (error) {
      // The error keeps its class and fields (kind, line, rule); its message names the file.
      if (where !== '' && error instanceof Error) error.message = `${where}${error.message}`;
      throw error;
    }
    for (const warning of result.warnings)
      warnings.push({
        check: warning.check,
        rule: warning.rule,
        line: warning.line,
        message: `${where}${warning.message}`,
      });
  }
  return warnings;
}
