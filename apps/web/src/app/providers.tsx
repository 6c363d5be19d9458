'use client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createContext, useContext, useState, type ReactNode } from 'react';
import { tabRunboxClient, TRPCProvider, type SocketStatus } from '@/lib/trpc';

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 5_000, retry: 1, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

const SocketStatusContext = createContext<SocketStatus | null>(null);
export const useSocketStatusStore = (): SocketStatus | null => useContext(SocketStatusContext);

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  // One client for the tab's lifetime (not closed on unmount: strict mode remounts in development).
  const [runbox] = useState(tabRunboxClient);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={runbox.client} queryClient={queryClient}>
        <SocketStatusContext.Provider value={runbox.status}>
          {children}
        </SocketStatusContext.Provider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
