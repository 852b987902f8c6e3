"""The run endpoint: a control socket per run, its protocol, server and client."""
