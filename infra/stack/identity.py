"""Who the catalog's users are: the Cognito user pool, its groups (roles) and the API's client."""

from __future__ import annotations

from aws_cdk import Duration, Stack, aws_cognito as cognito, aws_iam as iam
from constructs import Construct

from infra import topology
from infra.stack import base
from infra.stack.base import Concern, construct_name
from infra.stages import Stage

PASSWORD_MIN_LENGTH = 12
ACCESS_TOKEN_VALIDITY = Duration.hours(1)
ID_TOKEN_VALIDITY = Duration.hours(1)
REFRESH_TOKEN_VALIDITY = Duration.days(30)

# What a function with `user_pool="admin"` may do to users, on the pool's ARN only. The
# public APIs the auth function calls (SignUp, InitiateAuth, GlobalSignOut...) take the
# caller's own token or password and need no IAM permission.
COGNITO_ADMIN_ACTIONS = (
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminRemoveUserFromGroup",
    "cognito-idp:AdminListGroupsForUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminUserGlobalSignOut",
)
# Only in stages with `auto_confirm_users`: the auth function confirms sign-ups itself
# (and marks the email verified) instead of waiting for the emailed code.
COGNITO_AUTO_CONFIRM_ACTIONS = (
    "cognito-idp:AdminConfirmSignUp",
    "cognito-idp:AdminUpdateUserAttributes",
)


class Identity(Concern):
    """Exposes `user_pool`, `client` and `refs` (what functions are told), and grants user
    administration; needs nothing else of the stack."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id, stage=stage)
        spec = topology.USER_POOL
        self.user_pool = self._build_user_pool(spec)
        self._build_groups(spec)
        self.client = self._build_client()
        self.refs = self._build_refs()

    def _build_user_pool(self, spec: topology.UserPool) -> cognito.UserPool:
        plus = self.stage.threat_protection
        pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"catalog-{self.stage.name}-{spec.name}",
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            user_verification=cognito.UserVerificationConfig(
                email_style=cognito.VerificationEmailStyle.CODE,
                email_subject="Your catalog confirmation code",
                email_body="Your catalog confirmation code is {####}. It expires in 24 hours.",
            ),
            # A changed email takes effect only once its code is confirmed: until then the
            # user keeps signing in (and receiving recovery codes) at the verified address.
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
                fullname=cognito.StandardAttribute(required=False, mutable=True),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            mfa=cognito.Mfa.OFF,
            feature_plan=cognito.FeaturePlan.PLUS if plus else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus else None
            ),
            deletion_protection=self.stage.retain_data,
            removal_policy=self.removal,
        )
        base.acknowledge(
            pool,
            "AwsSolutions-COG2",
            "MFA is not required (nor offered) yet: shoppers and the catalog's staff sign in "
            "with email and a 12+ character password only. The auth function does not answer "
            "MFA challenges, so TOTP for editors and admins needs that work first; until then "
            "admin accounts are few and their sign-ins are throttled per method.",
        )
        if not plus:
            base.acknowledge(
                pool,
                "AwsSolutions-COG8",
                f"The {self.stage.name} stage uses the Essentials feature plan to avoid the "
                "Plus plan's per-user cost where nobody real signs in; threat protection "
                "(compromised credentials, adaptive authentication) is enforced in prod, "
                "whose stage settings turn the Plus plan on.",
            )
        return pool

    def _build_groups(self, spec: topology.UserPool) -> None:
        # Groups are the roles; a lower precedence wins when a user is in several, so the
        # strongest role (last in the topology's weakest-first order) gets the lowest.
        for rank, group in enumerate(spec.groups):
            cognito.CfnUserPoolGroup(
                self,
                f"UserPoolGroup{construct_name(group)}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=group,
                precedence=len(spec.groups) - rank,
                description=f"catalog role {group}"
                + (" (every new user)" if group == spec.default_group else ""),
            )

    def _build_client(self) -> cognito.UserPoolClient:
        return self.user_pool.add_client(
            "ApiClient",
            user_pool_client_name=f"catalog-{self.stage.name}-api",
            # The API's own endpoints sign users in; no hosted UI, so no OAuth flows either
            # (CDK would otherwise enable the code and implicit grants).
            disable_o_auth=True,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,  # the caller is a browser or an app: it cannot keep one
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=ACCESS_TOKEN_VALIDITY,
            id_token_validity=ID_TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY,
            # Sign-up writes email and name; nothing else is the client's to read or change.
            read_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, email_verified=True, fullname=True
            ),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, fullname=True
            ),
        )

    def _build_refs(self) -> topology.UserPoolRefs:
        stack = Stack.of(self)
        pool_id = self.user_pool.user_pool_id
        # The `iss` claim of the pool's tokens; url_suffix keeps it right in aws-cn too.
        issuer = f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{pool_id}"
        return topology.UserPoolRefs(
            pool_id=pool_id,
            client_id=self.client.user_pool_client_id,
            issuer=issuer,
            jwks_url=f"{issuer}/.well-known/jwks.json",
        )

    def grant_user_administration(self, role: iam.Role) -> None:
        """What a function with `user_pool="admin"` may do to the pool's users."""
        actions = list(COGNITO_ADMIN_ACTIONS)
        if self.stage.auto_confirm_users:
            actions += COGNITO_AUTO_CONFIRM_ACTIONS
        role.add_to_policy(
            iam.PolicyStatement(actions=actions, resources=[self.user_pool.user_pool_arn])
        )
