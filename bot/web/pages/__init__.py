"""Server-rendered pages: each module one page (or a few of one concept), thin over the
domain services in `approvals/`."""
