import { Suspense } from 'react';
import { NewRun } from '@/components/new-run';

export default function HomePage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <NewRun />
    </Suspense>
  );
}
