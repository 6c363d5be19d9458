'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useId, useMemo, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { CodeEditor, type EditorLanguage } from '@/components/code-editor';
import { CallbackField } from '@/components/callback-field';
import { EnvironmentField } from '@/components/environment-field';
import { LimitFields } from '@/components/limit-fields';
import { SnippetOptions } from '@/components/snippet-options';
import { ToolArgumentsFields } from '@/components/tool-arguments';
import { fieldError } from '@/lib/deliveries';
import {
  environmentChoices,
  environmentInput,
  NO_ENVIRONMENT,
  pickedEnvironment,
  type EnvironmentTarget,
} from '@/lib/environments';
import { formatBytes, formatDuration, runTitle } from '@/lib/format';
import {
  EMPTY_LIMIT_INPUTS,
  effectiveDefaults,
  inputsFromLimits,
  limitsFromInputs,
  type LimitInputs,
} from '@/lib/limit-fields';
import {
  EMPTY_SNIPPET_OPTIONS,
  optionsFromRun,
  snippetAdditions,
  type SnippetOptionInputs,
} from '@/lib/snippet-options';
import { LANGUAGE_NAMES, STARTER_CODE } from '@/lib/snippets';
import {
  argsFromInputs,
  EMPTY_ARGUMENT_INPUTS,
  envFromText,
  inputsFromArgs,
  textFromEnv,
  type ArgumentInputs,
} from '@/lib/tool-arguments';
import { errorDetails, errorMessage, useTRPC } from '@/lib/trpc';
import {
  filesFromDrop,
  isArchiveName,
  uploadProject,
  UploadError,
  type UploadedProject,
} from '@/lib/upload';

type Source = 'example' | 'upload' | 'snippet';
const SOURCES: { id: Source; label: string }[] = [
  { id: 'example', label: 'Example' },
  { id: 'upload', label: 'Upload a project' },
  { id: 'snippet', label: 'Write a snippet' },
];
const LANGUAGES: EditorLanguage[] = ['python', 'javascript', 'typescript', 'bash'];

function formatLimit(field: string, value: number): string {
  if (field.endsWith('Ms')) return formatDuration(value);
  if (field.endsWith('Bytes')) return formatBytes(value);
  return String(value);
}

function Tabs(props: {
  value: Source;
  onChange: (s: Source) => void;
  ids: Record<Source, string>;
}) {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const move = (delta: number) => {
    const index = SOURCES.findIndex((s) => s.id === props.value);
    const next = SOURCES[(index + delta + SOURCES.length) % SOURCES.length]!;
    props.onChange(next.id);
    refs.current[next.id]?.focus();
  };
  return (
    <div
      className="tabs"
      role="tablist"
      aria-label="How to start"
      onKeyDown={(e) => {
        if (e.key === 'ArrowRight') move(1);
        if (e.key === 'ArrowLeft') move(-1);
      }}
    >
      {SOURCES.map((s) => (
        <button
          key={s.id}
          ref={(el) => {
            refs.current[s.id] = el;
          }}
          type="button"
          role="tab"
          id={`tab-${s.id}`}
          className="tab"
          aria-selected={props.value === s.id}
          aria-controls={props.ids[s.id]}
          tabIndex={props.value === s.id ? 0 : -1}
          onClick={() => props.onChange(s.id)}
        >
          {s.label}
        </button>
      ))}
    </div>
  );
}

function UploadPanel(props: {
  project: UploadedProject | null;
  onProject: (p: UploadedProject | null) => void;
}) {
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<{
    message: string;
    rule: string | null;
    entry: string | null;
  } | null>(null);
  const archiveInput = useRef<HTMLInputElement>(null);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    folderInput.current?.setAttribute('webkitdirectory', '');
    folderInput.current?.setAttribute('directory', '');
  }, []);

  async function send(form: FormData) {
    setError(null);
    props.onProject(null);
    setProgress(0);
    try {
      props.onProject(await uploadProject(form, setProgress));
    } catch (e) {
      const details = e instanceof UploadError ? (e.data?.runbox ?? null) : null;
      setError({
        message: e instanceof Error ? e.message : String(e),
        rule: details?.rule ? String(details.rule) : null,
        entry: details?.entry ? String(details.entry) : null,
      });
    } finally {
      setProgress(null);
    }
  }

  function sendArchive(file: File) {
    const form = new FormData();
    form.append('archive', file);
    form.append('name', file.name);
    void send(form);
  }

  function sendFiles(files: { file: File; path: string }[], name: string) {
    if (files.length === 0) return;
    if (files.length === 1 && isArchiveName(files[0]!.file.name))
      return sendArchive(files[0]!.file);
    const form = new FormData();
    for (const f of files) form.append('files', f.file, f.file.name);
    form.append('paths', JSON.stringify(files.map((f) => f.path)));
    form.append('name', name);
    void send(form);
  }

  function pickedFiles(list: FileList | null, folder: boolean) {
    if (!list || list.length === 0) return;
    const files = Array.from(list).map((file) => ({
      file,
      path: folder && file.webkitRelativePath ? file.webkitRelativePath : file.name,
    }));
    const root = folder ? (files[0]?.path.split('/')[0] ?? 'folder') : 'files';
    // A picked folder's paths start with the folder's name: strip it so the project root is the folder.
    if (folder) for (const f of files) f.path = f.path.split('/').slice(1).join('/') || f.path;
    sendFiles(files, root);
  }

  async function onDrop(event: DragEvent) {
    event.preventDefault();
    setOver(false);
    const files = await filesFromDrop(event.dataTransfer.items);
    const single = files.length === 1 ? files[0] : undefined;
    if (single && isArchiveName(single.file.name)) sendArchive(single.file);
    else {
      const top = new Set(files.map((f) => f.path.split('/')[0]));
      if (top.size === 1 && files.every((f) => f.path.includes('/'))) {
        const root = [...top][0] ?? 'folder';
        sendFiles(
          files.map((f) => ({ ...f, path: f.path.slice(root.length + 1) })),
          root,
        );
      } else sendFiles(files, 'files');
    }
  }

  return (
    <div className="stack">
      <div
        className={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => void onDrop(e)}
      >
        <p>
          <strong>Drop a .zip or .tar(.gz) here</strong>, or a folder, or files.
        </p>
        <div className="row" style={{ justifyContent: 'center' }}>
          <button type="button" onClick={() => archiveInput.current?.click()}>
            Choose an archive…
          </button>
          <button type="button" onClick={() => filesInput.current?.click()}>
            Choose files…
          </button>
          <button type="button" onClick={() => folderInput.current?.click()}>
            Choose a folder…
          </button>
        </div>
        <input
          ref={archiveInput}
          type="file"
          accept=".zip,.tar,.tgz,.gz,application/zip,application/x-tar,application/gzip"
          hidden
          aria-label="Archive to upload"
          onChange={(e) => e.target.files?.[0] && sendArchive(e.target.files[0])}
        />
        <input
          ref={filesInput}
          type="file"
          multiple
          hidden
          aria-label="Files to upload"
          onChange={(e) => pickedFiles(e.target.files, false)}
        />
        <input
          ref={folderInput}
          type="file"
          multiple
          hidden
          aria-label="Folder to upload"
          onChange={(e) => pickedFiles(e.target.files, true)}
        />
      </div>
      {progress !== null && (
        <div className="field">
          <label htmlFor="upload-progress">Uploading… {Math.round(progress * 100)}%</label>
          <progress id="upload-progress" max={1} value={progress} />
        </div>
      )}
      {error && (
        <div className="alert error" role="alert">
          <strong>Upload refused.</strong> {error.message}
          {(error.rule || error.entry) && (
            <div className="small" style={{ marginTop: 'var(--space-1)' }}>
              {error.rule && (
                <>
                  Rule <code>{error.rule}</code>
                </>
              )}
              {error.rule && error.entry && ' · '}
              {error.entry && (
                <>
                  entry <code>{error.entry}</code>
                </>
              )}
            </div>
          )}
        </div>
      )}
      {props.project && (
        <div className="alert info" role="status">
          Uploaded <strong>{props.project.name}</strong>: {props.project.fileCount}{' '}
          {props.project.fileCount === 1 ? 'file' : 'files'},{' '}
          {formatBytes(props.project.totalBytes)}.
          {props.project.warnings && props.project.warnings.length > 0 && (
            <div className="upload-warnings" data-testid="upload-warnings">
              <strong>
                {props.project.warnings.length === 1
                  ? '1 entry was left out:'
                  : `${props.project.warnings.length} entries were left out:`}
              </strong>
              <ul>
                {props.project.warnings.map((warning, i) => (
                  <li key={i}>
                    <code>{warning.entry}</code>: {warning.detail}{' '}
                    <span className="muted">(rule {warning.rule})</span>
                  </li>
                ))}
              </ul>
            </div>
          )}
          {props.project.files.length > 0 && (
            <details>
              <summary>Files</summary>
              <ul className="mono">
                {props.project.files.slice(0, 200).map((f) => (
                  <li key={f.path}>
                    {f.path} <span className="muted">({formatBytes(f.size)})</span>
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
    </div>
  );
}

export function NewRun() {
  const trpc = useTRPC();
  const router = useRouter();
  const search = useSearchParams();
  const panelIds = { example: useId(), upload: useId(), snippet: useId() };
  const [source, setSource] = useState<Source>('example');
  const [exampleId, setExampleId] = useState<string | null>(null);
  const [project, setProject] = useState<UploadedProject | null>(null);
  const [language, setLanguage] = useState<EditorLanguage>('python');
  const [code, setCode] = useState(STARTER_CODE.python);
  const [stdin, setStdin] = useState('');
  const [snippetOptions, setSnippetOptions] = useState<SnippetOptionInputs>(EMPTY_SNIPPET_OPTIONS);
  const [toolId, setToolId] = useState<string>('');
  const [limitInputs, setLimitInputs] = useState<LimitInputs>(EMPTY_LIMIT_INPUTS);
  const [callbackUrl, setCallbackUrl] = useState('');
  // A tool run's own arguments, kept per tool (switching tools back and forth loses nothing),
  // its extra variables as NAME=value lines, and its stdin.
  const [argInputs, setArgInputs] = useState<Record<string, ArgumentInputs>>({});
  const [envText, setEnvText] = useState('');
  const [toolStdin, setToolStdin] = useState('');
  const [envProblem, setEnvProblem] = useState<string | null>(null);
  // The dependency environment picked (environments.list); none unless one is.
  const [environment, setEnvironment] = useState<string>(NO_ENVIRONMENT);

  const examples = useQuery(trpc.examples.list.queryOptions());
  const tools = useQuery(trpc.tools.list.queryOptions());
  const serverLimits = useQuery(trpc.limits.get.queryOptions());
  const environments = useQuery(trpc.environments.list.queryOptions());
  const create = useMutation(trpc.runs.create.mutationOptions());

  // "Run again" (from the history or a run's page): the same snippet, or the same tool on the
  // same example or uploaded project, with the same limits, ready to run.
  const againId = search.get('again');
  const again = useQuery({
    ...trpc.runs.get.queryOptions({ id: againId ?? '' }),
    enabled: !!againId,
  });
  const againProjectId = again.data?.kind === 'tool' ? again.data.projectId : null;
  const againProject = useQuery({
    ...trpc.projects.get.queryOptions({ id: againProjectId ?? '' }),
    enabled: !!againProjectId,
  });
  const againFiles = useQuery({
    ...trpc.projects.files.queryOptions({ id: againProjectId ?? '' }),
    enabled: !!againProjectId,
  });
  useEffect(() => {
    const run = again.data;
    if (!run) return;
    if (run.kind === 'snippet' && run.language) {
      setSource('snippet');
      setLanguage(run.language);
      setCode(run.code ?? '');
      setStdin(run.stdin ?? '');
      setSnippetOptions(optionsFromRun(run));
    } else if (run.kind === 'cell') {
      // Not set up as a snippet: its code uses its session's variables (see againCell).
      return;
    } else if (run.kind === 'tool') {
      if (run.toolId) setToolId(run.toolId);
      setEnvText(textFromEnv(run.env));
      setToolStdin(run.stdin ?? '');
      if (run.exampleId) {
        setSource('example');
        setExampleId(run.exampleId);
      } else {
        setSource('upload');
      }
    }
    setLimitInputs(inputsFromLimits(run.limits));
    setEnvironment(run.environment ?? NO_ENVIRONMENT);
  }, [again.data]);
  useEffect(() => {
    const run = again.data;
    const tool = tools.data?.find((candidate) => candidate.id === run?.toolId);
    if (run?.kind !== 'tool' || !tool || !run.args) return;
    const inputs = inputsFromArgs(tool.arguments, run.args);
    setArgInputs((previous) => ({ ...previous, [tool.id]: inputs }));
  }, [again.data, tools.data]);
  useEffect(() => {
    if (againProject.data && againFiles.data)
      setProject({ ...againProject.data, files: againFiles.data });
  }, [againProject.data, againFiles.data]);
  // A cell runs again in its session, where its variables are: the form offers that instead of
  // a snippet that would fail without them.
  const againCell = again.data?.kind === 'cell' ? again.data : null;
  const againProblem = !again.data
    ? again.isError
      ? `The run to repeat could not be loaded: ${errorMessage(again.error)}`
      : null
    : again.data.kind === 'tool' && !again.data.exampleId && !again.data.projectId
      ? 'The project that run worked on is no longer stored: upload it again.'
      : againProject.isError
        ? `The project that run worked on could not be loaded (${errorMessage(againProject.error)}): upload it again.`
        : null;

  const example = examples.data?.find((e) => e.id === exampleId) ?? null;
  useEffect(() => {
    // An update function: "run again" may have set the tool in the same commit, after this
    // render's toolId was read; the first available tool only fills an empty choice.
    const first = tools.data?.find((t) => t.available)?.id;
    if (!toolId && first) setToolId((current) => current || first);
  }, [tools.data, toolId]);

  const selectedTool = tools.data?.find((t) => t.id === toolId);
  // A project's own manifests for an uploaded project only: an example's tool run and a snippet
  // are offered the named environments.
  const environmentChoiceList = useMemo(() => {
    const target: EnvironmentTarget =
      source === 'snippet'
        ? { kind: 'snippet' }
        : source === 'example'
          ? { kind: 'example' }
          : { kind: 'upload', files: project ? project.files.map((file) => file.path) : null };
    return environmentChoices(environments.data, target);
  }, [environments.data, source, project]);
  // What is sent: a pick that is not offered for this source, or cannot work here, is none.
  const pickedEnv = pickedEnvironment(environment, environmentChoiceList);
  const ready =
    source === 'snippet'
      ? code.trim().length > 0
      : source === 'example'
        ? !!example && !!selectedTool?.available
        : !!project && !!selectedTool?.available;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!ready) return;
    const lim = limitsFromInputs(limitInputs);
    const callback = callbackUrl.trim() ? { callbackUrl: callbackUrl.trim() } : {};
    const parsedEnv = source === 'snippet' ? { env: {} } : envFromText(envText);
    if ('error' in parsedEnv) {
      setEnvProblem(parsedEnv.error);
      return;
    }
    const snippetParts = snippetAdditions(snippetOptions);
    if (source === 'snippet' && 'error' in snippetParts) {
      setEnvProblem(snippetParts.error);
      return;
    }
    setEnvProblem(null);
    const args = argsFromInputs(
      selectedTool?.arguments,
      argInputs[toolId] ?? EMPTY_ARGUMENT_INPUTS,
    );
    const additions = {
      ...(args.length > 0 ? { args } : {}),
      ...(Object.keys(parsedEnv.env).length > 0 ? { env: parsedEnv.env } : {}),
      ...(toolStdin ? { stdin: toolStdin } : {}),
    };
    const input =
      source === 'snippet'
        ? {
            kind: 'snippet' as const,
            language,
            code,
            ...(stdin ? { stdin } : {}),
            ...('additions' in snippetParts ? snippetParts.additions : {}),
            ...environmentInput(pickedEnv),
            ...(lim ? { limits: lim } : {}),
            ...callback,
          }
        : {
            kind: 'tool' as const,
            toolId,
            ...(source === 'example' ? { exampleId: exampleId! } : { projectId: project!.id }),
            ...additions,
            ...environmentInput(pickedEnv),
            ...(lim ? { limits: lim } : {}),
            ...callback,
          };
    create.mutate(input, { onSuccess: (run) => router.push(`/runs/${run.id}`) });
  }

  const createError = create.error;
  const details = errorDetails(createError);
  // A refused callback URL is told next to its field rather than in the form's alert.
  const callbackError = fieldError(createError, 'callbackUrl');
  // So are refused arguments (`args.2`, or an entry the tool does not take) and variables.
  const argsError =
    details?.field !== undefined && /^(args\b|entry$)/.test(details.field)
      ? (createError?.message ?? null)
      : null;
  const serverEnvError = fieldError(createError, 'env');
  const envError = envProblem ?? serverEnvError;
  const expectedError = fieldError(createError, 'expectedOutput');

  return (
    <form onSubmit={onSubmit} aria-label="New run">
      <h1>New run</h1>
      <p className="muted">
        Run a bundled example, your own project or a snippet in the sandbox, and watch its output
        live.
      </p>
      <section className="card" aria-labelledby="what-title">
        <h2 id="what-title" className="visually-hidden">
          What to run
        </h2>
        <Tabs value={source} onChange={setSource} ids={panelIds} />
        {againCell ? (
          <div className="alert info" role="status" data-testid="run-again">
            Run {againCell.id.slice(0, 8)} is a cell of a session: its code uses the variables the
            cells before it left, so it runs again in its session, not as a snippet.{' '}
            {againCell.sessionId && (
              <Link href={`/sessions/${againCell.sessionId}`}>Open its session</Link>
            )}
          </div>
        ) : againProblem ? (
          <div className="alert error" role="alert">
            {againProblem}
          </div>
        ) : (
          again.data && (
            <p className="muted small" role="status" data-testid="run-again">
              Set up as run {again.data.id.slice(0, 8)} was ({runTitle(again.data)}
              {project && again.data.projectId === project.id ? ` on ${project.name}` : ''}): change
              anything, then Run.
            </p>
          )
        )}

        <div
          role="tabpanel"
          id={panelIds.example}
          aria-labelledby="tab-example"
          hidden={source !== 'example'}
        >
          {examples.isPending ? (
            <p className="muted">Loading examples…</p>
          ) : examples.isError ? (
            <div className="alert error" role="alert">
              Could not load the examples: {errorMessage(examples.error)}
            </div>
          ) : examples.data.length === 0 ? (
            <div className="empty">
              <div className="empty-title">No examples on this server</div>
              Upload a project or write a snippet instead.
            </div>
          ) : (
            <ul className="example-list" aria-label="Examples">
              {examples.data.map((ex) => (
                <li key={ex.id}>
                  <button
                    type="button"
                    className="example"
                    aria-pressed={exampleId === ex.id}
                    onClick={() => {
                      setExampleId(ex.id);
                      setToolId(ex.tool);
                    }}
                    data-example={ex.id}
                  >
                    <span className="example-name">{ex.name}</span>
                    <span className="example-desc">{ex.description}</span>
                    <span className="example-tool">{ex.tool}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>

        <div
          role="tabpanel"
          id={panelIds.upload}
          aria-labelledby="tab-upload"
          hidden={source !== 'upload'}
        >
          <UploadPanel project={project} onProject={setProject} />
        </div>

        <div
          role="tabpanel"
          id={panelIds.snippet}
          aria-labelledby="tab-snippet"
          hidden={source !== 'snippet'}
        >
          <div className="stack">
            <div className="field" style={{ maxWidth: 240 }}>
              <label htmlFor="language">Language</label>
              <select
                id="language"
                value={language}
                onChange={(e) => {
                  const next = e.target.value as EditorLanguage;
                  if (code === STARTER_CODE[language]) setCode(STARTER_CODE[next]);
                  setLanguage(next);
                }}
              >
                {LANGUAGES.map((l) => (
                  <option key={l} value={l}>
                    {LANGUAGE_NAMES[l]}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <span
                id="code-label"
                className="label"
                style={{ fontWeight: 600, fontSize: '0.92rem' }}
              >
                Code
              </span>
              {source === 'snippet' && (
                <CodeEditor value={code} language={language} onChange={setCode} label="Code" />
              )}
            </div>
            <div className="field">
              <label htmlFor="stdin">
                Standard input <span className="hint">(optional)</span>
              </label>
              <textarea
                id="stdin"
                value={stdin}
                onChange={(e) => setStdin(e.target.value)}
                rows={3}
              />
            </div>
            <SnippetOptions
              inputs={snippetOptions}
              onChange={(next) => {
                setSnippetOptions(next);
                setEnvProblem(null);
                if (argsError || serverEnvError || expectedError) create.reset();
              }}
              argsError={source === 'snippet' ? argsError : null}
              envError={source === 'snippet' ? envError : null}
              expectedError={expectedError}
            />
            <p className="muted small">
              Want the variables of one run in the next?{' '}
              <Link href="/sessions">Start a session</Link>: a notebook whose cells share one
              kernel.
            </p>
          </div>
        </div>
      </section>

      <section className="card" aria-labelledby="how-title">
        <h2 id="how-title">How to run it</h2>
        <div className="grid-2">
          {source !== 'snippet' && (
            <div className="field">
              <label htmlFor="tool">Tool</label>
              <select id="tool" value={toolId} onChange={(e) => setToolId(e.target.value)}>
                {tools.data?.map((t) => (
                  <option key={t.id} value={t.id} disabled={!t.available}>
                    {t.name}
                    {t.available ? '' : ` — unavailable: ${t.reason ?? 'not installed'}`}
                  </option>
                ))}
              </select>
              <span className="hint">
                {selectedTool
                  ? selectedTool.available
                    ? selectedTool.description
                    : `Unavailable: ${selectedTool.reason ?? 'not installed on this server'}`
                  : tools.isPending
                    ? 'Loading tools…'
                    : 'Pick a tool'}
              </span>
            </div>
          )}
          <LimitFields
            inputs={limitInputs}
            onChange={setLimitInputs}
            defaults={
              serverLimits.data
                ? source === 'snippet'
                  ? serverLimits.data.defaults
                  : effectiveDefaults(
                      serverLimits.data.defaults,
                      selectedTool?.limits,
                      source === 'example' ? example?.limits : null,
                    )
                : null
            }
            minimums={serverLimits.data?.minimums ?? null}
            maximums={serverLimits.data?.maximums ?? null}
          />
        </div>
        {(environmentChoiceList.length > 1 || environments.isError) && (
          <div style={{ marginBlock: 'var(--space-4)' }}>
            <EnvironmentField
              choices={environmentChoiceList}
              value={pickedEnv}
              onChange={(next) => {
                setEnvironment(next);
                // A refusal was about the environment picked before.
                if (details?.code === 'ENVIRONMENT_REFUSED') create.reset();
              }}
              loadError={environments.isError ? errorMessage(environments.error) : null}
            />
          </div>
        )}
        {source !== 'snippet' && selectedTool && (
          <ToolArgumentsFields
            key={selectedTool.id}
            tool={selectedTool}
            inputs={argInputs[selectedTool.id] ?? EMPTY_ARGUMENT_INPUTS}
            onInputs={(inputs) => {
              setArgInputs((previous) => ({ ...previous, [selectedTool.id]: inputs }));
              if (argsError) create.reset();
            }}
            envText={envText}
            onEnvText={(text) => {
              setEnvText(text);
              setEnvProblem(null);
              if (envError) create.reset();
            }}
            stdin={toolStdin}
            onStdin={setToolStdin}
            files={source === 'upload' && project ? project.files.map((file) => file.path) : []}
            argsError={argsError}
            envError={envError}
          />
        )}
        <CallbackField
          value={callbackUrl}
          onChange={(next) => {
            setCallbackUrl(next);
            // The message was about what the field held before.
            if (callbackError) create.reset();
          }}
          error={callbackError}
        />
      </section>

      {createError && !callbackError && !argsError && !serverEnvError && !expectedError && (
        <div className="alert error" role="alert">
          <strong>The run was refused.</strong> {createError.message}
          {details?.field && details.min !== undefined && details.max !== undefined && (
            <>
              {' '}
              Allowed here: {formatLimit(details.field, details.min)} to{' '}
              {formatLimit(details.field, details.max)}.
            </>
          )}
          {details?.rule && <> Rule: {details.rule}.</>}
          {details?.line !== undefined && <> Line {details.line}.</>}
        </div>
      )}

      <div className="row">
        <button type="submit" className="primary big" disabled={!ready || create.isPending}>
          {create.isPending ? 'Starting…' : 'Run ▶'}
        </button>
        {!ready && (
          <span className="muted small">
            {source === 'example'
              ? example
                ? 'This example’s tool is unavailable here.'
                : 'Pick an example first.'
              : source === 'upload'
                ? project
                  ? 'Pick an available tool.'
                  : 'Upload a project first.'
                : 'Write some code first.'}
          </span>
        )}
      </div>
    </form>
  );
}
