"""Standards' files the tests check the app against, vendored with their licences (a clone of
the project has everything its tests need; see tests/vendor/README.md)."""

from pathlib import Path

VENDOR = Path(__file__).resolve().parent
#: 1EdTech's JSON Schema of an Open Badges 3.0 AchievementCredential (draft 2019-09).
OB3_ACHIEVEMENT_CREDENTIAL_SCHEMA = (
    VENDOR / "openbadges" / "ob_v3p0_achievementcredential_schema.json"
)
