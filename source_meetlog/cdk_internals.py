"""Every place where the connector leans on a private attribute or behaviour of airbyte-cdk.

Each use below names the CDK file it depends on and says why no public setting does the job.
setup.py pins the CDK to the minor version these were read from, and
unit_tests/test_cdk_internals.py checks every attribute named here, failing with its name and the
CDK version when a release removes or renames one.
"""
