//! Reference data: the Services Publics + engagements and the catalogue of computed
//! indicators. Titles of engagements are editable by ADMIN afterwards; this migration only
//! gives their first wording.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// 2026-11-22T00:00:00Z: a fixed instant, so that two databases migrated on different days
/// hold identical reference rows.
const SEEDED_AT_MS: i64 = 1_795_305_600_000;

/// (code, pillar, title). E8's wording could not be confirmed from a public source: it is
/// seeded neutral, for an ADMIN to edit.
const ENGAGEMENTS: [(&str, &str, &str); 8] = [
    (
        "E1",
        "PLUS_PROCHE",
        "Dans le respect mutuel, vous êtes accueillis avec bienveillance et avez le droit à l'erreur",
    ),
    (
        "E2",
        "PLUS_PROCHE",
        "Vous pouvez facilement entrer en contact avec vos services publics",
    ),
    (
        "E3",
        "PLUS_PROCHE",
        "Vous bénéficiez d'un accompagnement adapté à votre situation personnelle",
    ),
    (
        "E4",
        "PLUS_EFFICACE",
        "Votre demande est traitée dans les délais annoncés",
    ),
    (
        "E5",
        "PLUS_SIMPLE",
        "Vous disposez d'une information claire, simple et accessible",
    ),
    (
        "E6",
        "PLUS_EFFICACE",
        "Vous avez accès à nos résultats de qualité de service",
    ),
    (
        "E7",
        "PLUS_EFFICACE",
        "Votre avis est pris en compte pour améliorer le service rendu",
    ),
    ("E8", "PLUS_SIMPLE", "Engagement 8 (intitulé à confirmer)"),
];

/// (code, title, unit, direction, methodology) of the indicators computed from experiences.
const COMPUTED_INDICATORS: [(&str, &str, &str, &str, &str); 11] = [
    (
        "VOLUME",
        "Nombre d'expériences",
        "count",
        "NEUTRAL",
        "Expériences déposées dans le mois, hors expériences rejetées comme hors sujet, spam ou doublon.",
    ),
    (
        "SATISFACTION_RATE",
        "Taux de satisfaction",
        "%",
        "HIGHER_IS_BETTER",
        "Part des expériences positives parmi les expériences comptées.",
    ),
    (
        "NET_SATISFACTION",
        "Satisfaction nette",
        "points",
        "HIGHER_IS_BETTER",
        "Part des expériences positives moins part des expériences négatives, en points.",
    ),
    (
        "NPS",
        "Net Promoter Score",
        "points",
        "HIGHER_IS_BETTER",
        "Part des notes 9–10 moins part des notes 0–6, parmi les expériences notées.",
    ),
    (
        "EFFORT_EASY_RATE",
        "Facilité des démarches",
        "%",
        "HIGHER_IS_BETTER",
        "Part des notes d'effort 5 à 7 (7 = très facile) parmi les expériences notées.",
    ),
    (
        "EFFORT_MEAN",
        "Note d'effort moyenne",
        "/7",
        "HIGHER_IS_BETTER",
        "Moyenne des notes d'effort (1 à 7, 7 = très facile).",
    ),
    (
        "RESPONSE_RATE",
        "Taux de réponse",
        "%",
        "HIGHER_IS_BETTER",
        "Part des expériences publiées ayant reçu une réponse publiée.",
    ),
    (
        "RESPONSE_DELAY_MEDIAN",
        "Délai médian de réponse",
        "jours",
        "LOWER_IS_BETTER",
        "Médiane des jours entre le dépôt et la première réponse publiée.",
    ),
    (
        "RESPONSE_ON_TIME_RATE",
        "Réponses dans le délai annoncé",
        "%",
        "HIGHER_IS_BETTER",
        "Part des expériences publiées ayant reçu une réponse publiée dans le délai annoncé.",
    ),
    (
        "ACTIONS_DONE",
        "Actions d'amélioration réalisées",
        "count",
        "HIGHER_IS_BETTER",
        "Actions d'amélioration passées au statut réalisé dans le mois.",
    ),
    (
        "ACTIONS_OPEN",
        "Actions d'amélioration en cours",
        "count",
        "NEUTRAL",
        "Actions d'amélioration prévues ou en cours à la fin du mois.",
    ),
];

fn built(result: Result<&mut InsertStatement, sea_query::error::Error>) -> Result<(), DbErr> {
    result
        .map(|_| ())
        .map_err(|e| DbErr::Migration(e.to_string()))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut engagements = Query::insert()
            .into_table(Engagement::Table)
            .columns([
                Engagement::Code,
                Engagement::Pillar,
                Engagement::Title,
                Engagement::Position,
                Engagement::UpdatedAt,
            ])
            .to_owned();
        for (position, (code, pillar, title)) in ENGAGEMENTS.iter().enumerate() {
            built(engagements.values([
                (*code).into(),
                (*pillar).into(),
                (*title).into(),
                (position as i32 + 1).into(),
                SEEDED_AT_MS.into(),
            ]))?;
        }
        manager.exec_stmt(engagements).await?;

        let columns = [
            Indicator::Code,
            Indicator::Kind,
            Indicator::Title,
            Indicator::Unit,
            Indicator::Direction,
            Indicator::Frequency,
            Indicator::Methodology,
            Indicator::Version,
            Indicator::UpdatedAt,
        ];
        let mut indicators = Query::insert()
            .into_table(Indicator::Table)
            .columns(columns)
            .to_owned();
        let mut versions = Query::insert()
            .into_table(IndicatorVersion::Table)
            .columns([
                IndicatorVersion::Code,
                IndicatorVersion::Version,
                IndicatorVersion::Title,
                IndicatorVersion::Unit,
                IndicatorVersion::Direction,
                IndicatorVersion::Frequency,
                IndicatorVersion::Methodology,
                IndicatorVersion::CreatedAt,
            ])
            .to_owned();
        for (code, title, unit, direction, methodology) in COMPUTED_INDICATORS {
            built(indicators.values([
                code.into(),
                "COMPUTED".into(),
                title.into(),
                unit.into(),
                direction.into(),
                "MONTHLY".into(),
                methodology.into(),
                1i32.into(),
                SEEDED_AT_MS.into(),
            ]))?;
            built(versions.values([
                code.into(),
                1i32.into(),
                title.into(),
                unit.into(),
                direction.into(),
                "MONTHLY".into(),
                methodology.into(),
                SEEDED_AT_MS.into(),
            ]))?;
        }
        manager.exec_stmt(indicators).await?;
        manager.exec_stmt(versions).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(IndicatorVersion::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Indicator::Table)
                    .and_where(Expr::col(Indicator::Kind).eq("COMPUTED"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(Query::delete().from_table(Engagement::Table).to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Engagement {
    Table,
    Code,
    Pillar,
    Title,
    Position,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Indicator {
    Table,
    Code,
    Kind,
    Title,
    Unit,
    Direction,
    Frequency,
    Methodology,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IndicatorVersion {
    Table,
    Code,
    Version,
    Title,
    Unit,
    Direction,
    Frequency,
    Methodology,
    CreatedAt,
}
