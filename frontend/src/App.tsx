import { lazy, Suspense, useState } from "react";
import { createBrowserRouter, Navigate, RouterProvider } from "react-router";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { SignIn } from "./auth/SignIn";
import { Layout } from "./components/Layout";
import { Loading } from "./components/States";
import { ReportsPage } from "./features/reports";
import { ApiError } from "./api/client";

// The pages a visitor does not open first are loaded on demand: the initial script stays small.
const OverviewPage = lazy(() => import("./features/overview"));
const ReportPage = lazy(() => import("./features/report"));
const SubmitPage = lazy(() => import("./features/submit"));
const RepositoriesPage = lazy(() => import("./features/repositories"));
const GitHubInstalledPage = lazy(() =>
  import("./features/repositories").then((m) => ({ default: m.GitHubInstalledPage })),
);
const ApiKeysPage = lazy(() => import("./features/apikeys"));
const MembersPage = lazy(() => import("./features/members"));
const IssuesPage = lazy(() => import("./features/issues"));
const IssuePage = lazy(() => import("./features/issues").then((m) => ({ default: m.IssuePage })));
const NotificationsPage = lazy(() => import("./features/notifications"));

function page(element: React.ReactNode) {
  return <Suspense fallback={<Loading />}>{element}</Suspense>;
}

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: page(<OverviewPage />) },
      { path: "issues", element: page(<IssuesPage />) },
      { path: "issues/:id", element: page(<IssuePage />) },
      { path: "reports", element: <ReportsPage /> },
      { path: "reports/:id", element: page(<ReportPage />) },
      { path: "submit", element: page(<SubmitPage />) },
      { path: "repositories", element: page(<RepositoriesPage />) },
      // The GitHub App's Callback URL: GitHub sends the browser here after its install page.
      { path: "github/installed", element: page(<GitHubInstalledPage />) },
      { path: "api-keys", element: page(<ApiKeysPage />) },
      { path: "members", element: page(<MembersPage />) },
      { path: "notifications", element: page(<NotificationsPage />) },
      // The sign-in layer answers an invitation link before the pages render; then home.
      { path: "invitations/accept", element: <Navigate to="/" replace /> },
      { path: "*", element: <p>There is no page here. <a href="/">Go to the overview</a>.</p> },
    ],
  },
]);

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        // A 4xx will not get better by asking again.
        retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      },
    },
  });
}

export function App() {
  const [client] = useState(makeQueryClient);
  return (
    <QueryClientProvider client={client}>
      <SignIn>
        <RouterProvider router={router} />
      </SignIn>
    </QueryClientProvider>
  );
}
