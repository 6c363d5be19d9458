import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="empty">
      <div className="empty-title">Nothing here</div>
      <p>
        This page does not exist. <Link href="/">Start a new run</Link> or see{' '}
        <Link href="/runs">your runs</Link>.
      </p>
    </div>
  );
}
