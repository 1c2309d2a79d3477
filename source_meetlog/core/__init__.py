"""The connector's decisions in plain Python: the config's rules, timestamps, which listed records
get a detail request, what a list's state holds, and the links between streams. Nothing here
imports from components/ (the CDK adapters), which build on it."""
