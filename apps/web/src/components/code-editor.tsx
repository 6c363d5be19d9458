'use client';
import { javascript } from '@codemirror/lang-javascript';
import { python } from '@codemirror/lang-python';
import { HighlightStyle, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import { Compartment, EditorState, Prec, type Extension } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';

export type EditorLanguage = 'python' | 'javascript' | 'typescript' | 'bash';

function languageExtension(language: EditorLanguage): Extension {
  switch (language) {
    case 'python':
      return python();
    case 'javascript':
      return javascript();
    case 'typescript':
      return javascript({ typescript: true });
    case 'bash':
      return StreamLanguage.define(shell);
  }
}

/** Colours from the theme's variables, so the editor follows light and dark. */
const highlight = HighlightStyle.define([
  { tag: [tags.keyword, tags.controlKeyword, tags.operatorKeyword], color: 'var(--ansi-magenta)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--ansi-green)' },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: 'var(--ansi-yellow)' },
  {
    tag: [tags.comment, tags.lineComment, tags.blockComment],
    color: 'var(--muted)',
    fontStyle: 'italic',
  },
  {
    tag: [tags.function(tags.variableName), tags.function(tags.propertyName)],
    color: 'var(--ansi-blue)',
  },
  { tag: [tags.typeName, tags.className, tags.namespace], color: 'var(--ansi-cyan)' },
  { tag: [tags.definition(tags.variableName)], color: 'var(--text)', fontWeight: '600' },
  { tag: [tags.variableName, tags.propertyName], color: 'var(--text)' },
  { tag: [tags.operator, tags.punctuation], color: 'var(--muted)' },
  { tag: [tags.meta], color: 'var(--ansi-red)' },
]);

const baseTheme = EditorView.theme({
  '&': { backgroundColor: 'var(--log-bg)', color: 'var(--text)' },
  '.cm-content': { caretColor: 'var(--text)' },
  '.cm-gutters': {
    backgroundColor: 'var(--surface-2)',
    color: 'var(--muted)',
    borderRight: '1px solid var(--border)',
  },
  '.cm-activeLine': { backgroundColor: 'color-mix(in srgb, var(--accent) 7%, transparent)' },
  '.cm-activeLineGutter': { backgroundColor: 'color-mix(in srgb, var(--accent) 12%, transparent)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': {
    backgroundColor: 'color-mix(in srgb, var(--accent) 25%, transparent) !important',
  },
  '.cm-cursor': { borderLeftColor: 'var(--text)' },
});

export function CodeEditor(props: {
  value: string;
  language: EditorLanguage;
  onChange: (value: string) => void;
  label: string;
  /** Shift+Enter or Ctrl/Cmd+Enter runs the code (a notebook cell); without it they type. */
  onRun?: () => void;
  /** A smaller editor (a notebook's next cell). */
  compact?: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const languageSlot = useRef(new Compartment());
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;
  const onRun = useRef(props.onRun);
  onRun.current = props.onRun;

  useEffect(() => {
    if (!host.current) return;
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          // Above basicSetup's own Enter bindings; a key with no onRun is left to them.
          Prec.highest(
            keymap.of(
              ['Shift-Enter', 'Mod-Enter'].map((key) => ({
                key,
                run: () => {
                  if (!onRun.current) return false;
                  onRun.current();
                  return true;
                },
              })),
            ),
          ),
          basicSetup,
          baseTheme,
          syntaxHighlighting(highlight),
          languageSlot.current.of(languageExtension(props.language)),
          EditorView.contentAttributes.of({ 'aria-label': props.label }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) onChange.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
    // The editor is made once; value and language changes are pushed below.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- deliberately not every dependency
  }, []);

  useEffect(() => {
    view.current?.dispatch({
      effects: languageSlot.current.reconfigure(languageExtension(props.language)),
    });
  }, [props.language]);

  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== props.value) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: props.value } });
    }
  }, [props.value]);

  return <div className={props.compact ? 'editor compact' : 'editor'} ref={host} />;
}
