import type { Metadata } from 'next';
import { SessionNotebook } from '@/components/session-notebook';

export const metadata: Metadata = { title: 'Session' };

export default async function SessionPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <SessionNotebook id={id} />;
}
