//! Deliveries become two-phase: a PENDING row, with the message's Message-ID, is committed
//! before the message leaves, and turns SENT once the relay (or the outbox) has it. A crash
//! in between leaves a PENDING row, which tells the next run not to send blindly again.
//! Rows written before this migration were recorded after sending: they are SENT.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_delivery_state"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Delivery::Table)
                    .add_column(
                        ColumnDef::new(Delivery::Status)
                            .string_len(8)
                            .not_null()
                            .default("SENT"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Delivery::Table)
                    .add_column(ColumnDef::new(Delivery::MessageId).string_len(200).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Delivery::MessageId, Delivery::Status] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Delivery::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    Status,
    MessageId,
}
