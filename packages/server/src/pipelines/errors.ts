/**
 * Why the pipeline controller refused a request. `code` is stable; `status` is the HTTP answer the
 * API gives; `fields` maps field paths (`processes.parse.resources.cpu`) to what is wrong.
 */
export class PipelineError extends Error {
  override readonly name = 'PipelineError';
  constructor(
    readonly status: 400 | 404 | 409 | 422,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No pipeline with this id. */
export const pipelineNotFound = (id: string) =>
  new PipelineError(404, 'NOT_FOUND', `pipeline ${JSON.stringify(id)} does not exist`);

/** The spec has problems: every one, by field. */
export function invalidPipeline(problems: readonly { field: string; message: string }[]): PipelineError {
  const fields: Record<string, string> = {};
  for (const p of problems) fields[p.field || '(body)'] ??= p.message;
  const list = problems.map((p) => `${p.field ? `${p.field} ` : ''}${p.message}`);
  return new PipelineError(422, 'INVALID_PIPELINE', `invalid pipeline: ${list.join('; ')}`, fields);
}
