import type { Metadata } from 'next';
import { History } from '@/components/history';

export const metadata: Metadata = { title: 'History' };

export default function RunsPage() {
  return <History />;
}
