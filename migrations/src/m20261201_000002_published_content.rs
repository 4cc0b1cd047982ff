//! The bytes of what the jobs publish, in the database every replica already reaches: each
//! report's PDF (`report_content`, one row per report, replaced with it in one transaction),
//! and the period's other files, the manifest and the open data (`published_file`, by
//! name). Files written to `--out` stay the jobs' publication folder; serving no longer
//! depends on them. Reports recorded before this migration have no content row and are
//! still read from their file.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000002_published_content"
    }
}

#[derive(DeriveIden)]
enum Report {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ReportContent {
    Table,
    ReportId,
    Sha256,
    Bytes,
}

#[derive(DeriveIden)]
enum PublishedFile {
    Table,
    Name,
    Period,
    Sha256,
    SizeBytes,
    Bytes,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReportContent::Table)
                    .col(
                        ColumnDef::new(ReportContent::ReportId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ReportContent::Sha256)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ReportContent::Bytes).blob().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReportContent::Table, ReportContent::ReportId)
                            .to(Report::Table, Report::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PublishedFile::Table)
                    .col(
                        ColumnDef::new(PublishedFile::Name)
                            .string_len(255)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PublishedFile::Period)
                            .string_len(7)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PublishedFile::Sha256)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PublishedFile::SizeBytes)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PublishedFile::Bytes).blob().not_null())
                    .col(
                        ColumnDef::new(PublishedFile::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PublishedFile::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ReportContent::Table).to_owned())
            .await
    }
}
