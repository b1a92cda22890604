#!/usr/bin/env python3
"""The reference MSK IAM token for fixed inputs, for the Swift signer's test:

    msk_token_oracle.py REGION EPOCH_SECONDS ACCESS_KEY SECRET_KEY [SESSION_TOKEN]

prints one JSON line {"token": ..., "expiry_ms": ...} made by
aws-msk-iam-sasl-signer-python's public generate_auth_token_from_credentials_provider.
Only the clock is patched: botocore's SigV4 takes "now" from get_current_datetime.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.credentials import CredentialProvider, Credentials

from aws_msk_iam_sasl_signer import MSKAuthTokenProvider


class FixedCredentials(CredentialProvider):
    METHOD = "fixed"

    def __init__(self, access_key, secret_key, token):
        super().__init__()
        self.credentials = Credentials(access_key, secret_key, token)

    def load(self):
        return self.credentials


def main():
    region, epoch, access_key, secret_key, *token = sys.argv[1:]
    now = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda *args, **kwargs: now
    provider = FixedCredentials(access_key, secret_key, token[0] if token else None)
    value, expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(region, provider)
    print(json.dumps({"token": value, "expiry_ms": expiry_ms}))


if __name__ == "__main__":
    main()
